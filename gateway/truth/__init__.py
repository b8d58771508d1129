"""One truth for stock: the source-of-truth policy, the rules that find disagreements, the
owned queue they go to, enforcement and the audit trail (issue: one truth for stock)."""
