"""Customer sign-in by e-mail (link or code), server-side sessions and account switching."""
