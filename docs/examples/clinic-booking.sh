# A service with four entities, from a local checkout of the template.
TEMPLATE=${TEMPLATE:-path/to/fastapi-modulith}
cookiecutter --no-input "$TEMPLATE" project_name="Clinic Booking" \
  entities="appointments(starts_at:datetime patient_id:ref:patients note:text?), patients(name:str:120 mrn:str:20:unique), people/person(name:str), tags(name:str:40:unique owned=no)"
