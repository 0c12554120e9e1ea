"""Messages to people: the outbox, its channels, response links and texts; fed plain values, below campaigns."""
