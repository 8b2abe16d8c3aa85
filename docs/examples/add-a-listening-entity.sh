make entity name=order_notes fields="order_id:ref:orders body:text"
