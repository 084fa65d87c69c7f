import type pg from 'pg';

/**
 * An ISP as its documents print it: the registration's name, currency and zone (operators) with the profile the
 * ISP set (isp_profiles: address, contacts, locale, logo, payment note). Reads both by key.
 */
export type IspProfileView = Readonly<{
  isp_id: string;
  name: string;
  currency: string;
  time_zone: string;
  address: string;
  phone: string | null;
  email: string | null;
  /** As the ISP set it; null: the documents' default. */
  locale: string | null;
  logo: Readonly<{ media_type: 'image/png' | 'image/jpeg'; data_base64: string; sha256: string }> | null;
  payment_note: string | null;
}>;

type ProfileRow = {
  isp_id: string;
  name: string;
  currency: string;
  time_zone: string;
  address: string | null;
  phone: string | null;
  email: string | null;
  locale: string | null;
  logo_media_type: 'image/png' | 'image/jpeg' | null;
  logo_base64: string | null;
  logo_sha256: string | null;
  payment_note: string | null;
};

/** The ISP's profile, or null when the ISP is unknown (or not projected yet). */
export async function loadIspProfile(db: pg.Pool | pg.ClientBase, isp_id: string): Promise<IspProfileView | null> {
  const found = await db.query<ProfileRow>(
    `SELECT o.operator_id AS isp_id, o.name, o.currency, o.time_zone, p.address, p.phone, p.email, p.locale, p.logo_media_type, p.logo_base64, p.logo_sha256, p.payment_note
       FROM operators o LEFT JOIN isp_profiles p ON p.operator_id = o.operator_id
      WHERE o.operator_id = $1 AND o.role = 'admin'`,
    [isp_id],
  );
  const row = found.rows[0];
  if (row === undefined) return null;
  return {
    isp_id: row.isp_id,
    name: row.name,
    currency: row.currency,
    time_zone: row.time_zone,
    address: row.address ?? '',
    phone: row.phone,
    email: row.email,
    locale: row.locale,
    logo: row.logo_media_type === null || row.logo_base64 === null ? null : { media_type: row.logo_media_type, data_base64: row.logo_base64, sha256: row.logo_sha256 ?? '' },
    payment_note: row.payment_note,
  };
}
