"""The engine: compile a checked funnel and replay deal events against it."""
