import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.uploads import UploadRejected, sniff, validate_upload

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    b"name,domain,country,segment,employee_count\n"
    b"Contoso,contoso.example,de,commercial,120\n"
    b"Adatum,adatum.example,FR,education,\n"
)


def _upload(content: bytes, name="customers.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_it_sniffs_the_real_type_not_the_name():
    assert sniff(b"%PDF-1.7\n...") == "pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20) == "png"
    assert sniff("name,domain\nMüller,m.example\n".encode()) == "csv"
    assert sniff(b"\x00\x01\x02\xff\xfe binary") is None


def test_it_refuses_a_pdf_named_csv():
    with pytest.raises(UploadRejected, match="The file is PDF; expected CSV"):
        validate_upload(_upload(b"%PDF-1.4 fake"), allowed={"csv"})


def test_it_refuses_files_over_the_limit(settings):
    with pytest.raises(UploadRejected, match="the limit is"):
        validate_upload(_upload(b"a,b\n" * 1000), allowed={"csv"}, max_bytes=100)
