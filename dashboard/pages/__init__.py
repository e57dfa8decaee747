"""The pages of the dashboard, one module each.

Every page module has ``PATH`` (its URL), ``TITLE``, ``layout(settings, runner,
query)`` (the page for a runner and the URL's query, built from the journal on
each visit) and ``register(app, settings)`` (its callbacks, on that app only).
"""
