"""Messages to people (email, and SMS later): one notifier interface, and the outbox."""
