"""The conductor graph and what it decides with: state, context, nodes, rules, bandit.

`graph.build_engagement_graph()` is the uncompiled `StateGraph` (perceive -> decide ->
approval_gate -> act -> measure_outcome -> learn); `nodes` holds its module-level
nodes, `state` and `context` the types they read, `deps` what a run is given (clock,
publisher, content writer, ...). `policy`, `bandit`, `content`, `notifications` and
`event_settings` are the pieces a decision is made of. The modules are imported by
name; this package imports nothing, so reaching one of them stays cheap.
"""
