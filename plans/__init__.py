"""The scaling plan ("Opschaalplan"): a plan a civil servant builds with the assistant for one
concrete pilot — intake, detected phase and obstacles, stakeholders, business case,
implementation tasks, invitations and exports.

The domain uses ``assistant.service.Assistant`` for detection, cited evidence and people, and
``storage.PlanStore`` for everything it keeps; channels call :class:`plans.service.PlanService`.
"""
