"""Notifications of alerts (issue #14): a durable outbox on disk, delivery with Apprise (e-mail, Mattermost, Teams
workflows, Slack, Matrix, JSON webhooks), realert windows, digests, retries, dead letters. See docs/notify.md.

Modules: :mod:`~crawler.notify.outbox` (what is owed, on disk), :mod:`~crawler.notify.deliver` (sending it),
:mod:`~crawler.notify.message` (the text), :mod:`~crawler.notify.secrets` (masking target secrets),
:mod:`~crawler.notify.runner` (delivery in a background thread), :mod:`~crawler.notify.extension` (during a crawl).
"""
