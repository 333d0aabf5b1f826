"""Pure IAM helpers for IRSA troubleshooting: ARN parsing and trust-policy evaluation."""
