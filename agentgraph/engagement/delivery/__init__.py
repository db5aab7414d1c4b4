"""Where the conductor's actions go: the intervention ledger, publishers, organizer feed.

`interventions` records each executed intervention in the store and delivers it at
most once, `publisher` is the interface the graph delivers through, and
`organizer_hub` fans organizer messages out to connected dashboards, and
`organizer_relay` shares that feed and the organizers' verdicts between server
processes over Redis. None of them
decides anything. The modules are imported by name; this package imports nothing,
so reaching one of them stays cheap.
"""
