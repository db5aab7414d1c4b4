"""Attendee signals in: parsing at the edge, sliding windows, the Redis feed.

Everything here handles raw attendee input and reduces it to anonymous aggregates
(`parsing` drops chat text, `windows` keeps attendee keys to itself), so the rest of
the conductor never sees identity or text. The modules are imported by name; this
package imports nothing, so reaching one of them stays cheap.
"""
