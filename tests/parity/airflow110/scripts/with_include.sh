{% include 'scripts/common.sh' %}
{% from 'scripts/macros.j2' import stamp with context %}
echo "done {{ stamp() }}"
