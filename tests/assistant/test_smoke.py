def test_fake_assistant_answers_with_citations(fake_assistant):
    a = fake_assistant.ask(
        "Hoe kopen gemeenten samen een meldingensysteem in via een aanbesteding?"
    )
    assert not a.abstained
    assert a.citations
    assert "cases/gedeelde-aanbesteding" in a.retrieved
    assert all(p.id != "geheim-persoon" for p in a.people)
    assert "Gerda" not in a.answer
