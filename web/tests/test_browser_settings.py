"""Settings in a real browser (Debian's Chromium through Playwright) against a real
server: an owner signs up, sees the verification banner, cannot invite yet, opens the
emailed link, invites a colleague, who accepts in a second browser and logs in, and the
owner changes the colleague's role. The emails are read from ``django.core.mail.outbox``
(the server runs in this process). axe-core runs on every page of the settings
(``Tab.check``). Real commits (the ``server`` fixture's ``committed``) and no
``django_db`` mark: its flush at the end would run as the runtime role, which may not
truncate."""

from __future__ import annotations

import re

from django.core import mail

from web.tests.test_browser import PASSWORD, Tab


def _link(path: str, to: str) -> str:
    """The path and query of the last emailed link to ``path`` sent to ``to``."""
    for message in reversed(mail.outbox):
        if message.to == [to]:
            match = re.search(rf"https?://[^/\s]+({re.escape(path)}\?token=\S+)", str(message.body))
            assert match, message.body
            return match.group(1)
    raise AssertionError(f"no email to {to}: {[m.to for m in mail.outbox]}")


def test_an_owner_verifies_the_address_and_invites_a_colleague(server, browser):
    owner = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = Tab(owner, server)
    page = tab.page
    page.on("dialog", lambda dialog: dialog.accept())

    # Sign up: the banner asks to verify the address.
    tab.go("/signup/")
    page.get_by_label("Company name").fill("Orbit Supplies")
    page.get_by_label("Your name").fill("Olga Owner")
    page.get_by_label("Work email").fill("olga@orbit.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create workspace").click()
    page.wait_for_url(re.compile(r"/app/orbit-supplies/$"))
    banner = page.get_by_role("region", name="Email verification")
    assert banner.is_visible() and "olga@orbit.example" in banner.inner_text()

    # Inviting before the address is verified is refused, in words.
    page.get_by_role("link", name="Members").click()
    page.wait_for_url(re.compile(r"/settings/members/$"))
    assert page.get_by_role("cell", name="Olga Owner (you)").is_visible()
    assert banner.is_visible()
    tab.check("settings-members-new")
    page.get_by_role("link", name="Invite a member").first.click()
    page.get_by_label("Email", exact=True).fill("carl@orbit.example")
    page.get_by_label("Role").select_option("clerk")
    page.get_by_role("button", name="Send the invitation").click()
    assert page.get_by_text("Verify your email address before inviting anyone").is_visible()
    tab.check("settings-invite-refused")

    # "Resend the email", then the emailed link verifies the address.
    banner.get_by_role("button", name="Resend the email").click()
    assert page.get_by_text("We sent a new link to olga@orbit.example.").is_visible()
    assert len([m for m in mail.outbox if m.to == ["olga@orbit.example"]]) == 2
    tab.go(_link("/verify-email/", "olga@orbit.example"))
    page.wait_for_url(re.compile(r"/app/orbit-supplies/$"))
    assert page.get_by_text("Thank you: olga@orbit.example is verified.").is_visible()
    assert page.get_by_role("region", name="Email verification").count() == 0

    # Now the invitation goes out and is listed as pending.
    tab.go("/app/orbit-supplies/settings/members/invite/")
    page.get_by_label("Email", exact=True).fill("carl@orbit.example")
    page.get_by_label("Role").select_option("clerk")
    tab.check("settings-invite")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url(re.compile(r"/settings/members/$"))
    assert page.get_by_text("Invitation sent to carl@orbit.example as clerk.").is_visible()
    assert page.locator("[data-invitation='carl@orbit.example']").is_visible()
    tab.check("settings-members-invited")

    # The colleague accepts in another browser, is signed in, logs out and logs in again.
    colleague = browser.new_context(viewport={"width": 1280, "height": 900})
    other = Tab(colleague, server)
    other.go(_link("/accept-invitation/", "carl@orbit.example"))
    assert other.page.get_by_role("heading", name="Join Orbit Supplies").is_visible()
    other.page.get_by_label("Your name").fill("Carl Clerk")
    other.page.get_by_label("Choose a password").fill("another sturdy passphrase 7")
    other.check("settings-accept")
    other.page.get_by_role("button", name="Create my account and join").click()
    other.page.wait_for_url(re.compile(r"/app/orbit-supplies/$"))
    assert other.page.get_by_text("You joined Orbit Supplies.").is_visible()
    assert other.page.get_by_role("region", name="Email verification").count() == 0  # the email reached them
    other.page.get_by_role("button", name=re.compile("Carl Clerk")).click()
    other.page.get_by_role("button", name="Log out").click()
    other.page.wait_for_url(re.compile(r"/login/$"))
    other.page.get_by_label("Email", exact=True).fill("carl@orbit.example")
    other.page.get_by_label("Password").fill("another sturdy passphrase 7")
    other.page.get_by_role("button", name="Log in").click()
    other.page.wait_for_url(re.compile(r"/app/orbit-supplies/$"))
    other.go("/app/orbit-supplies/settings/members/")
    assert other.page.get_by_role("link", name="Invite a member").count() == 0  # a clerk does not invite
    other.check("settings-members-clerk")
    colleague.close()

    # The owner sees the colleague and makes them a manager.
    tab.go("/app/orbit-supplies/settings/members/")
    assert page.locator("[data-invitation='carl@orbit.example']").count() == 0
    page.get_by_role("link", name="Manage Carl Clerk").click()
    tab.check("settings-member")
    page.get_by_label("Role").select_option("manager")
    page.get_by_role("button", name="Save the role").click()
    assert page.get_by_text("Carl Clerk is now manager.").is_visible()

    # The user menu leads to the workspace settings and the profile.
    page.get_by_role("button", name=re.compile("Olga Owner")).click()
    page.get_by_role("link", name="Workspace settings").click()
    page.wait_for_url(re.compile(r"/settings/workspace/$"))
    page.get_by_label("Sales order prefix").fill("ORB")
    page.get_by_role("button", name="Save the numbering").click()
    assert page.locator("[data-next='sales']").inner_text() == "ORB-000001"
    tab.check("settings-workspace")
    page.get_by_role("button", name=re.compile("Olga Owner")).click()
    page.get_by_role("link", name="Your profile").click()
    page.wait_for_url(re.compile(r"/settings/profile/$"))
    tab.check("settings-profile")

    # A password change keeps this browser signed in.
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password").fill("a newer sturdy passphrase 8")
    page.get_by_role("button", name="Change the password").click()
    assert page.get_by_text("Your password is changed. Your other sessions were logged out.").is_visible()
    tab.go("/app/orbit-supplies/settings/members/")
    assert page.get_by_role("heading", name="Members").is_visible()
    tab.check("settings-members-after-password")
    owner.close()
