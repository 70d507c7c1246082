"""The tables and sentences of a section's report, for the sections whose text does not fit beside their declaration and measures; each module is named for its section."""
