import { escapeXml } from '../../common/xml.ts';

/**
 * Text safe anywhere in HTML or SVG text and double- or single-quoted attribute values: the XML escaping of
 * common/xml.ts (HTML5 knows all five entities it writes), applied to the value's string form.
 */
export function escapeHtml(value: unknown): string {
  return escapeXml(String(value));
}
