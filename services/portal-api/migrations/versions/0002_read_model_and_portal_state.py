"""read model and portal state

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    schema='portal'
    )
    op.create_index('ix_audit_log_customer', 'audit_log', ['tenant_id', 'customer_id', 'at'], unique=False, schema='portal')
    op.create_table('contacts',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('preferred_channel', sa.String(length=16), nullable=True),
    sa.Column('locale', sa.String(length=20), nullable=True),
    sa.Column('opted_out_channels', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'contact_id', name=op.f('pk_contacts')),
    schema='portal'
    )
    op.create_index('ix_contacts_email', 'contacts', ['email'], unique=False, schema='portal')
    op.create_table('credit_notes',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('credit_note_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount', sa.Numeric(), nullable=False),
    sa.Column('unapplied_amount', sa.Numeric(), nullable=False),
    sa.Column('pending_amount', sa.Numeric(), server_default='0', nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'credit_note_id', name=op.f('pk_credit_notes')),
    schema='portal'
    )
    op.create_index('ix_credit_notes_customer', 'credit_notes', ['tenant_id', 'customer_id'], unique=False, schema='portal')
    op.create_table('customers',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('locale', sa.String(length=20), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'customer_id', name=op.f('pk_customers')),
    schema='portal'
    )
    op.create_table('documents',
    sa.Column('document_id', sa.UUID(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=False),
    sa.Column('filename', sa.String(length=120), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_name', sa.String(length=80), nullable=False),
    sa.Column('request_id', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('document_id', name=op.f('pk_documents')),
    schema='portal'
    )
    op.create_table('interactions',
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('ref_id', sa.UUID(), nullable=True),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_interactions')),
    schema='portal'
    )
    op.create_index('ix_interactions_customer', 'interactions', ['tenant_id', 'customer_id', 'occurred_at'], unique=False, schema='portal')
    op.create_table('invoices',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('invoice_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('amount_total', sa.Numeric(), nullable=False),
    sa.Column('tax_amount', sa.Numeric(), nullable=False),
    sa.Column('open_amount', sa.Numeric(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('po_number', sa.String(length=100), nullable=True),
    sa.Column('terms', sa.String(length=200), nullable=True),
    sa.Column('pdf_url', sa.Text(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dunning_stage', sa.String(length=50), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'invoice_id', name=op.f('pk_invoices')),
    schema='portal'
    )
    op.create_index('ix_invoices_customer_due', 'invoices', ['tenant_id', 'customer_id', 'due_date'], unique=False, schema='portal')
    op.create_table('messages',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('message_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('preview', sa.Text(), nullable=True),
    sa.Column('template_key', sa.String(length=100), nullable=True),
    sa.Column('invoice_ids', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'message_id', name=op.f('pk_messages')),
    schema='portal'
    )
    op.create_index('ix_messages_customer', 'messages', ['tenant_id', 'customer_id', 'status_at'], unique=False, schema='portal')
    op.create_table('payments',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('payment_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('amount', sa.Numeric(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('allocations', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('reversed_amount', sa.Numeric(), server_default='0', nullable=False),
    sa.Column('reversed_on', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('tenant_id', 'payment_id', name=op.f('pk_payments')),
    schema='portal'
    )
    op.create_index('ix_payments_customer', 'payments', ['tenant_id', 'customer_id'], unique=False, schema='portal')
    op.create_table('plan_limits',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('max_instalments', sa.Integer(), nullable=False),
    sa.Column('max_days', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_plan_limits')),
    schema='portal'
    )
    op.create_table('requests',
    sa.Column('request_id', sa.UUID(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('invoice_ids', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('request_id', name=op.f('pk_requests')),
    schema='portal'
    )
    op.create_index('ix_requests_customer', 'requests', ['tenant_id', 'customer_id', 'kind'], unique=False, schema='portal')
    op.create_table('sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_sessions')),
    schema='portal'
    )
    op.create_table('used_links',
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('nonce', name=op.f('pk_used_links')),
    schema='portal'
    )


def downgrade() -> None:
    op.drop_table('used_links', schema='portal')
    op.drop_table('sessions', schema='portal')
    op.drop_index('ix_requests_customer', table_name='requests', schema='portal')
    op.drop_table('requests', schema='portal')
    op.drop_table('plan_limits', schema='portal')
    op.drop_index('ix_payments_customer', table_name='payments', schema='portal')
    op.drop_table('payments', schema='portal')
    op.drop_index('ix_messages_customer', table_name='messages', schema='portal')
    op.drop_table('messages', schema='portal')
    op.drop_index('ix_invoices_customer_due', table_name='invoices', schema='portal')
    op.drop_table('invoices', schema='portal')
    op.drop_index('ix_interactions_customer', table_name='interactions', schema='portal')
    op.drop_table('interactions', schema='portal')
    op.drop_table('documents', schema='portal')
    op.drop_table('customers', schema='portal')
    op.drop_index('ix_credit_notes_customer', table_name='credit_notes', schema='portal')
    op.drop_table('credit_notes', schema='portal')
    op.drop_index('ix_contacts_email', table_name='contacts', schema='portal')
    op.drop_table('contacts', schema='portal')
    op.drop_index('ix_audit_log_customer', table_name='audit_log', schema='portal')
    op.drop_table('audit_log', schema='portal')
