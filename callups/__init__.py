"""Call-up delivery: the notification outbox, channels, response links and the scheduler process."""
