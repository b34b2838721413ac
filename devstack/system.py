"""Everything `make run` starts, in order, each child waited for before the next needs it:
the Temporal dev server, migrations + catalog + demo accounts, the SMTP catcher, the worker
and the API. `python -m devstack` and the bench both start the system through here."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from db.seed import migrate_and_seed
from devstack.processes import (
    Stack,
    api_command,
    api_healthy,
    mail_catcher_command,
    port_open,
    temporal_dev_server_command,
    temporal_ready,
    wait_until,
    worker_command,
)
from settings import Settings


def say_progress(line: str) -> None:
    print(line, flush=True)


def start_system(
    stack: Stack, settings: Settings, api_url: str, say: Callable[[str], None] = say_progress
) -> None:
    """Start each part the settings do not point elsewhere; ``say`` tells what starts."""
    if not settings.temporal_address:
        say(f"· Temporal dev server (state in {settings.data_dir / 'temporal.db'}) …")
        command = temporal_dev_server_command(settings, codec_endpoint=f"{api_url}/codec")
        stack.start("temporal", command)
        wait_until(lambda: temporal_ready(settings), "Temporal dev server", 90, stack)
    say("· database migrations, catalog and demo accounts …")
    asyncio.run(migrate_and_seed(settings))
    if not settings.smtp_host:
        say(f"· local SMTP catcher on 127.0.0.1:{settings.smtp_port} …")
        stack.start("mail", mail_catcher_command(settings))
        wait_until(lambda: port_open(settings.smtp_port), "SMTP catcher", 30, stack)
    say("· worker and API …")
    stack.start("worker", worker_command())
    stack.start("api", api_command(settings))
    wait_until(lambda: api_healthy(settings.api_port), "API", 90, stack)
