-- Customers of the orders-api example (psql -f, or any PostgreSQL client).
-- The demo API's orders reference customer_id 1..50; customers 49 and 50 are
-- deliberately absent, so the example shows that orders of unknown customers are
-- kept (with a null name and country), not dropped by the join.
DROP TABLE IF EXISTS customers;
CREATE TABLE customers (
    customer_id bigint PRIMARY KEY,
    name text NOT NULL,
    country text NOT NULL
);
INSERT INTO customers (customer_id, name, country)
SELECT
    n,
    'Customer ' || lpad(n::text, 2, '0'),
    (ARRAY['DE', 'FR', 'GB', 'NL', 'US'])[1 + n % 5]
FROM generate_series(1, 48) AS n;
