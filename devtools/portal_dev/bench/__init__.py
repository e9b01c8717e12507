"""`portal bench`: how many Stripe round trips pages cost, how fast they are, and how close the
portal comes to a bare Starlette + Jinja2 page (see runner.py)."""
