"""Provider clients: SendGrid, Twilio, SMTP, the local sink and a no-op for benchmarks."""
