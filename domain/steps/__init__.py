"""Every business step, declared once and grouped like DOMAIN.md §4: ``order``, ``refund``,
``invoice``, and ``deadline`` (the one-year deadline and the reminders, which nobody asks
for: time takes them). ``domain.lifecycle`` collects the declarations and judges them."""
