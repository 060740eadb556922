-- The answers Jira and ServiceNow get to a decision that does not count (`refused:<ticket>:
-- <who>:<code>`, one per ticket, person and reason) get scopes of their own, pruned by age as
-- they are written. They were kept with the issue and record links, which are never pruned.
UPDATE surface_state SET scope = 'jira.refused' WHERE scope = 'jira' AND key LIKE 'refused:%';
UPDATE surface_state SET scope = 'servicenow.refused' WHERE scope = 'servicenow' AND key LIKE 'refused:%';
