"""Scoring and anomaly detection: what the conductor notices about a session.

`score` turns a window's aggregates into the 0-100 engagement score, `anomaly`
watches the score of one session against its own baseline, `collector` runs both for
every active session on each tick, and `simulation` generates attendee traffic to
measure and tune them. The modules are imported by name; this package imports
nothing, so reaching one of them stays cheap.
"""
