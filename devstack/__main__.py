"""`python -m devstack` (what `make run` runs): the whole system on embedded defaults.

Temporal dev server (file database), migrations + catalog + demo accounts, a local SMTP
catcher, the worker and the API, supervised in the foreground until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from types import FrameType

from db.seed import DEMO_ACCOUNTS
from devstack.processes import Stack, child_env
from devstack.system import start_system
from settings import Settings, get_settings
from workflows.client import payload_keys


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the stack the way Ctrl-C does


DEMO_STAFF_EMAILS = "reviewer=bmp@baison.example.com;finance=finance@baison.example.com"


def development_settings() -> Settings:
    """`make run` is a developer's machine: development (demo accounts, dev mail page, dev
    secrets) unless ENVIRONMENT says otherwise, since an unset ENVIRONMENT means production."""
    os.environ.setdefault("ENVIRONMENT", "development")
    settings = get_settings()
    if settings.is_development and not settings.staff_emails:
        # Late work and the digest reach the demo staff, in the local mail catcher.
        settings = settings.model_copy(update={"staff_emails": DEMO_STAFF_EMAILS})
    return settings


def main() -> int:
    settings = development_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    payload_keys(settings)  # creates the development payload key once, before any child reads it
    log_dir = settings.data_dir.resolve() / "logs"
    stack = Stack(child_env(settings), log_dir=log_dir)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    api_url = f"http://127.0.0.1:{settings.api_port}"
    try:
        start_system(stack, settings, api_url)
        print_banner(settings, api_url)
        while not (dead := stack.dead()):
            time.sleep(0.5)
        for name, code in dead:
            child = next(c for c in stack.children if c.name == name)
            print(f"\n✗ {name} exited unexpectedly (code {code}):\n{child.log_tail()}", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except (TimeoutError, RuntimeError) as error:
        print(f"\n✗ {error}\nlogs in {log_dir}", flush=True)
        return 1
    finally:
        # Stopping is not interrupted by a second Ctrl-C; each child is killed after 10 s.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nstopping …", flush=True)
        stack.stop()
        print("stopped.", flush=True)


def print_banner(settings: Settings, api_url: str) -> None:
    temporal_ui = (
        f"http://127.0.0.1:{settings.temporal_ui_port}/namespaces/{settings.temporal_namespace}"
        if not settings.temporal_address
        else f"(the UI of the cluster at {settings.temporal_address})"
    )
    mail = (
        f"{settings.mail_dir.resolve()}/*.eml"
        if not settings.smtp_host
        else f"sent to {settings.smtp_host}:{settings.smtp_port}"
    )
    traces_file = settings.effective_traces_file
    traces = str(traces_file.resolve()) if traces_file else "no file"
    if settings.otlp_traces_endpoint:
        traces += f" · OTLP {settings.otlp_traces_endpoint}"
    if settings.otel_sdk_disabled:
        traces = "off (OTEL_SDK_DISABLED)"
    if not settings.is_development:
        logins = "none (ENVIRONMENT=production creates no demo accounts)"
    else:
        people = " · ".join(f"{username} ({role})" for username, role, *_ in DEMO_ACCOUNTS)
        logins = f'{people} · password "{settings.demo_password.get_secret_value()}"'
    print(
        f"""
✓ 店铺订购 is running
  Web UI          {api_url}/
  API docs        {api_url}/docs
  Temporal UI     {temporal_ui}
  E-mails         {mail}
  Logs            {(settings.data_dir / "logs").resolve()}
  Traces          {traces}
  Demo logins     {logins}
  Press Ctrl-C to stop everything; a second `make run` finds every order where it was.
""",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
