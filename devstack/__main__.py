"""`python -m devstack` (what `make run` runs): the whole system on embedded defaults.

Temporal dev server (file database), migrations + catalog + demo accounts, a local SMTP
catcher, the worker and the API, supervised in the foreground until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from types import FrameType

from db.seed import migrate_and_seed
from devstack.processes import (
    Stack,
    api_command,
    api_healthy,
    child_env,
    mail_catcher_command,
    port_open,
    temporal_dev_server_command,
    wait_until,
    worker_command,
)
from settings import get_settings
from workflows.client import payload_keys


def main() -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    payload_keys(settings)  # creates the development payload key once, before any child reads it
    stack = Stack(child_env(settings), log_dir=settings.data_dir / "logs")
    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    api_url = f"http://127.0.0.1:{settings.api_port}"
    try:
        if not settings.temporal_address:
            print(f"· Temporal dev server (state in {settings.data_dir / 'temporal.db'}) …", flush=True)
            stack.start("temporal", temporal_dev_server_command(settings, codec_endpoint=f"{api_url}/codec"))
            wait_until(lambda: port_open(settings.temporal_port), "Temporal dev server", 90, stack)
        print("· database migrations, catalog and demo accounts …", flush=True)
        asyncio.run(migrate_and_seed(settings))
        if not settings.smtp_host:
            print(f"· local SMTP catcher on 127.0.0.1:{settings.smtp_port} …", flush=True)
            stack.start("mail", mail_catcher_command(settings))
            wait_until(lambda: port_open(settings.smtp_port), "SMTP catcher", 30, stack)
        print("· worker and API …", flush=True)
        stack.start("worker", worker_command())
        stack.start("api", api_command(settings))
        wait_until(lambda: api_healthy(settings.api_port), "API", 90, stack)
        print_banner(settings, api_url)
        while not stopping:
            dead = stack.dead()
            if dead:
                print(f"\n✗ {', '.join(f'{n} exited ({c})' for n, c in dead)}; logs in {settings.data_dir / 'logs'}", flush=True)
                return 1
            time.sleep(0.5)
        return 0
    except (TimeoutError, RuntimeError) as error:
        print(f"\n✗ {error}; logs in {settings.data_dir / 'logs'}", flush=True)
        return 1
    finally:
        print("\nstopping …", flush=True)
        stack.stop()
        print("stopped.", flush=True)


def print_banner(settings: object, api_url: str) -> None:
    from settings import Settings

    assert isinstance(settings, Settings)
    temporal_ui = (
        f"http://127.0.0.1:{settings.temporal_ui_port}"
        if not settings.temporal_address
        else f"(the UI of {settings.temporal_address})"
    )
    mail = f"{settings.mail_dir.resolve()}/*.eml" if not settings.smtp_host else f"{settings.smtp_host}:{settings.smtp_port}"
    print(
        f"""
✓ 店铺订购 is running
  Web UI          {api_url}/
  API docs        {api_url}/docs
  Temporal UI     {temporal_ui}
  E-mails         {mail}
  Logs            {(settings.data_dir / 'logs').resolve()}
  Demo logins     buyers leiliang, zhangsan · reviewer bmp · finance finance · password "{settings.demo_password}"
  Press Ctrl-C to stop; a second `make run` finds every order where it was.
""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
