"""The Briefing tab: pick a client and site, read the briefing, save it as PDF."""

from __future__ import annotations

from techdesk.core.roster import HostSpec


def test_briefing_tab_shows_the_chosen_client_and_saves_a_pdf(window, services, tmp_path):
    services.roster.add(HostSpec(name="fs01", address="10.0.0.10", client="Acme", site="HQ"))
    services.roster.add(HostSpec(name="till", address="10.0.0.11", client="Bakery", site="Shop"))
    services.notes.add("Alarm code is with reception", client="Acme", site="HQ", pinned=True)
    services.notes.add("Not pinned: stays out", client="Acme", site="HQ")
    window.tabs.setCurrentWidget(window.briefing_view)   # opening the tab fills it
    view = window.briefing_view
    assert [view.client_box.itemText(i) for i in range(view.client_box.count())] == ["Acme", "Bakery"]
    text = view.page.toPlainText()
    assert "Know before you go" in text and "Alarm code is with reception" in text
    assert "Not pinned: stays out" not in text
    assert "fs01" in text  # never answered: "not seen recently"
    view.client_box.setCurrentText("Bakery")
    assert view.site_box.itemText(1) == "Shop"
    assert "Alarm code" not in view.page.toPlainText() and "till" in view.page.toPlainText()
    out = window.briefing.save_pdf(tmp_path / "bakery.pdf")
    assert out is not None and out.read_bytes().startswith(b"%PDF")
    care = window.briefing.save_care_report(tmp_path / "care.html")
    assert care is not None and "Care report" in care.read_text()
