"""The user's commands over the library: `cli` (argument parsing and the
`pipeline` entry point), `check`, `serve` (preview), `importer`
(`pipeline import`), `scaffold` (`pipeline new`) and `system` (the Debian
packages a machine lacks)."""
