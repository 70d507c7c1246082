"""Figure helpers: the house style and the figures several sections draw alike."""
