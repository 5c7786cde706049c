"""People who sign in: users, passwords, tokens and their role assignments per tenant."""
