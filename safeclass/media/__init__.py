"""Media: the only SafeClass code that speaks to Janus. See docs/media.md."""
