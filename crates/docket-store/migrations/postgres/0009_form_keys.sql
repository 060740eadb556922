-- Request forms' keys get scopes of their own, pruned as they are written. The web form's keys
-- (`form:<person>:<key>`, kept with the sessions until now) move to `web.forms` as they are, so
-- a form sent again after the upgrade still leads to its ticket. Teams keys are now per person
-- (`form:<activity>:<person>` in `teams.forms`); the old ones (`form:<activity>`, kept with the
-- conversation references, which are never pruned) would never be read again, so they go.
UPDATE surface_state SET scope = 'web.forms' WHERE scope = 'web' AND key LIKE 'form:%';
DELETE FROM surface_state WHERE scope = 'teams' AND key LIKE 'form:%';
