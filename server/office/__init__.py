"""The safety office's services behind `/api/office/*`: figures, rankings, shop files, rules and templates."""
