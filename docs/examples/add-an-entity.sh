make entity name=orders fields="number:str:20:unique placed_on:date note:text?"
make entity name=order_lines fields="order_id:ref:orders sku:str:40 quantity:int=1 price:decimal"
make migrate   # creates the tables
make test      # includes the new modules' tests
