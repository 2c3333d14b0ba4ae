"""Writes owned by assistants, by topic: memories (and recall, expiry, retirement), chat turns,
lesson-plan drafts."""
