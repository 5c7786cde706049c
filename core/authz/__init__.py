"""Authorization: casbin decides what each role may do; grants per tenant say who holds which role where."""
