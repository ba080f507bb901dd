"""The supervision board (督查看板): web pages, exports and the weekly report over the registry and the store.

`data` (rows and figures), `query` (filters), `views` (page contexts), `render` (Jinja2), `export` (CSV, JSON,
XLSX) and `report` (督查通报) are pure; `routes` mounts the pages on the feed server, `commands` holds the
`taskbot board-url|board-revoke|report|done|undo` bodies and `weekly` sends the report from the running bot.
"""
