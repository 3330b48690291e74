"""All I/O: users in PostgreSQL; products, carts and orders in DynamoDB."""
