"""Why a plan is in its phase, in words: one function for every channel and the exports."""

from plans.export import phase_reasons_text


def test_every_reason_reads_as_words_in_both_voices_and_languages() -> None:
    reasons = ["cue", "reach", "corrected", "Vijf soorten opschalen", "RegioRit"]
    chat_nl = phase_reasons_text(reasons, "nl")
    assert chat_nl == (
        "signaalwoorden in je antwoorden; draait nu al bij meerdere organisaties; "
        "door jou gecorrigeerd; lijkt op “Vijf soorten opschalen” en “RegioRit”"
    )
    assert "door de gebruiker gecorrigeerd" in phase_reasons_text(reasons, "nl", document=True)
    english = phase_reasons_text(reasons, "en")
    assert "already runs in several organisations" in english and "corrected by you" in english
    # A reason the labels know is never shown as if it were a source id.
    assert "reach" not in chat_nl and "reach" not in english
    assert "resembles “Vijf soorten opschalen” and “RegioRit”" in english
    assert phase_reasons_text(["RegioRit"], "nl") == "lijkt op “RegioRit”"
    assert phase_reasons_text([], "nl") == ""
