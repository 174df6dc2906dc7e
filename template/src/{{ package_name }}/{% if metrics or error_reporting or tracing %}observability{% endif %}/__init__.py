"""What the service reports to the people who run it. Each module here is one kind of report,
carried because the project asked for it, and silent until its setting is set. Built on `core`
only; the app, the CLI and the worker switch it on, and no domain imports it."""
