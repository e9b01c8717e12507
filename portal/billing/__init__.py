"""Invoices, installments, payments and payment methods: the portal's billing domain."""
