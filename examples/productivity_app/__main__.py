"""Runs the example backend: `python -m examples.productivity_app [--peptalk-url URL] [--port N]`.

peptalk's own settings come from the `PEPTALK_*` environment, as for the service.
"""

from __future__ import annotations

import argparse

import uvicorn

from examples.productivity_app.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.productivity_app", description=__doc__)
    parser.add_argument("--database-url", default="sqlite:///productivity.db")
    parser.add_argument("--peptalk-url", default=None, help="a running peptalk service; default: peptalk in-process")
    parser.add_argument("--peptalk-api-key", default=None, help="the service's key, when it is not in dev mode")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    app = create_app(args.database_url, peptalk_url=args.peptalk_url,
                     peptalk_api_key=args.peptalk_api_key)
    uvicorn.run(app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
