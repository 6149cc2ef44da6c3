import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkRawZpl, labelDataOf, renderDocument } from './document-label.js';
import type { PrintDocument } from './protocol.js';

const plain = JSON.parse(readFileSync(new URL('./fixtures/print-plain-standard.json', import.meta.url), 'utf8')) as {
  frame: { task: { documents: PrintDocument[] } };
  expect: { label: Record<string, unknown> };
};
const plainDoc = plain.frame.task.documents[0] as PrintDocument;

describe('document → label data', () => {
  it('maps the plain standard-waybill data and the custom area onto the gateway label', () => {
    const got = labelDataOf(plainDoc);
    expect(got).toEqual({ ok: true, label: plain.expect.label });
  });

  it('takes the first non-empty value of a field across contents', () => {
    const doc: PrintDocument = {
      documentID: 'd',
      contents: [{ data: { waybillCode: 'YT1', recipient: { name: '' } } }, { data: { waybillCode: 'YT2', recipient: { name: '王五', phone: 571 } } }],
    };
    const got = labelDataOf(doc);
    expect(got).toMatchObject({ ok: true, label: { waybill: 'YT1', receiverName: '王五', receiverPhone: '571' } });
  });

  it('keeps an explicit weight in grams, ignores one that is not a number', () => {
    expect(labelDataOf({ documentID: 'd', contents: [{ data: { waybillCode: 'A1', grams: 1234 } }] })).toMatchObject({ label: { grams: 1234 } });
    expect(labelDataOf({ documentID: 'd', contents: [{ data: { waybillCode: 'A1', grams: 'heavy' } }] })).toMatchObject({ label: { grams: null } });
  });

  it('needs a waybill', () => {
    expect(labelDataOf({ documentID: 'd', contents: [{ data: { nick: '张三' } }] })).toMatchObject({ ok: false });
  });
});

describe('document → printer data', () => {
  it('renders the label as ZPL with the waybill barcode and Chinese text under ^CI28', () => {
    const got = renderDocument(plainDoc, 'zpl');
    if (!got.ok) throw new Error(JSON.stringify(got));
    expect(got.format).toBe('zpl');
    expect(got.data).toMatch(/^\^XA/);
    expect(got.data).toContain('^CI28');
    expect(got.data).toContain('^FD804709221850176188^FS');
    expect(got.data).toContain('马锐');
    expect(got.data).toContain('830都江堰');
  });

  it('renders the same label as TSPL for a TSPL printer', () => {
    const got = renderDocument(plainDoc, 'tspl');
    if (!got.ok) throw new Error(JSON.stringify(got));
    expect(got.format).toBe('tspl');
    expect(got.data).toContain('804709221850176188');
    expect(got.data).not.toContain('^XA');
  });

  it('cannot smuggle ZPL commands through label fields', () => {
    const doc: PrintDocument = { documentID: 'd', contents: [{ data: { waybillCode: 'A1', recipient: { name: '^XZ~JR^XA' } } }] };
    const got = renderDocument(doc, 'zpl');
    if (!got.ok) throw new Error(JSON.stringify(got));
    expect(got.data).not.toContain('~JR');
    expect(got.data).toContain('_5EXZ_7EJR_5EXA');
  });

  it('refuses a waybill that is not letters, digits and "-" (it becomes a barcode)', () => {
    const got = renderDocument({ documentID: 'd', contents: [{ data: { waybillCode: 'A1>;9' } }] }, 'zpl');
    expect(got).toMatchObject({ ok: false, code: 'PKL_LABEL_TEMPLATE_ERROR' });
  });

  it('fails an encrypted document, even with a plain custom area beside it', () => {
    const doc: PrintDocument = {
      documentID: '7812',
      contents: [{ encryptedData: 'AES:abc', signature: 's', templateURL: 'x' }, { data: { waybillCode: 'A1' } }],
    };
    expect(renderDocument(doc, 'zpl')).toEqual({ ok: false, code: 'PKL_PRINT_ENCRYPTED_DOCUMENT', details: { documentID: '7812' } });
  });

  it('treats an empty encryptedData as absent', () => {
    expect(renderDocument({ documentID: 'd', contents: [{ encryptedData: '', data: { waybillCode: 'A1' } }] }, 'zpl')).toMatchObject({ ok: true });
  });

  it('passes raw ZPL through to ZPL printers only, whole formats only', () => {
    const doc: PrintDocument = { documentID: 'd', contents: [{ data: { zpl: '^XA^FDa^FS^XZ' } }, { data: { zpl: ' ^XA^FDb^FS^XZ\n' } }] };
    expect(renderDocument(doc, 'zpl')).toEqual({ ok: true, format: 'zpl', kind: 'raw-zpl', data: '^XA^FDa^FS^XZ\n^XA^FDb^FS^XZ\n' });
    expect(renderDocument(doc, 'tspl')).toMatchObject({ ok: false, code: 'PKL_LABEL_TEMPLATE_ERROR' });
    const mixed: PrintDocument = { documentID: 'd', contents: [{ data: { zpl: '^XA^XZ' } }, { data: { waybillCode: 'A1' } }] };
    expect(renderDocument(mixed, 'zpl')).toMatchObject({ ok: false, code: 'PKL_LABEL_TEMPLATE_ERROR' });
  });
});

describe('raw ZPL check', () => {
  it.each([
    ['^XA^FO10,10^FDok^FS^XZ', null],
    ['^xa^fdlower case^fs^xz', null],
    ['^XA^CI28^FDmulti^FS^XZ^XA^FDtwo^FS^XZ', null],
  ])('accepts %s', (zpl, want) => {
    expect(checkRawZpl(zpl)).toBe(want);
  });

  it.each([
    ['^FDno start^FS^XZ', 'whole formats'],
    ['^XA^FDno end^FS', 'whole formats'],
    ['^XA^FDx^FS^XZ~JR', '~'],
    ['~JA^XA^XZ', '~'],
    ['^XA^JUS^XZ', '^JU'],
    ['^XA^CC+^XZ', '^CC'],
    ['^XA^CT#^XZ', '^CT'],
    ['^XA^IDR:*.*^XZ', '^ID'],
    ['^XA^NC1^XZ', '^NC'],
    ['^XA^KPsecret^XZ', '^KP'],
    ['^XA^DFR:FORM.ZPL^FS^XZ', '^DF'],
    ['^XA^kn^XZ', '^KN'],
  ])('refuses %s', (zpl, why) => {
    expect(checkRawZpl(zpl)).toContain(why);
  });

  it('refuses raw ZPL over the size limit', () => {
    expect(checkRawZpl(`^XA^FD${'x'.repeat(300 * 1024)}^FS^XZ`)).toContain('larger');
  });
});
