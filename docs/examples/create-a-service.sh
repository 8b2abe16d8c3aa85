# TEMPLATE is the template's git URL or a local checkout of it.
cookiecutter --no-input "$TEMPLATE" project_name="Order Desk" database=postgresql rate_limit_storage=redis \
  tenancy=organization entities="orders(number:str:20:unique placed_on:date), order_lines(order_id:ref:orders sku:str:40 quantity:int=1)"
