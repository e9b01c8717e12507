"""Who a request can be: a customer's session, a staff member's session, the holder of an
e-mailed invoice link, and the rule of who counts as staff.

Storage and signing only, no web: the features (sign-in, billing, account, staff) and the one
place that resolves a request's principal (`portal.principals`) build on it.
"""
