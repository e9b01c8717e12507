"""The portal's development tools: `portal demo`, `portal bench`, `portal sandbox` and the
development mailbox. A distribution of its own (`devtools/pyproject.toml`), never installed in
the production image; it adds its commands to `portal` through the `portal.commands`
entry points, and the portal imports nothing from it."""
