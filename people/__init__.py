"""People of a tenant: users with a role, passwords, a second factor, console sessions."""
