using System.Text;

namespace DeployFunctions.Storage;

/// <summary>
/// Turns names that come from GitHub (repository, environment, commit) into one component of a blob name or a table
/// key. GitHub compares repository and environment names without case, so the key is lower-case: <c>Production</c>
/// and <c>production</c> share one lock. Everything but <c>a-z 0-9 - _</c> is escaped as <c>~XX</c> (UTF-8 hex), so a
/// component never holds <c>/</c> or <c>.</c> and cannot become another path (<c>..</c>) or another key.
/// </summary>
public static class StorageKey
{
    public static string Escape(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var lower = name.ToLowerInvariant();
        var key = new StringBuilder(lower.Length);
        foreach (var b in Encoding.UTF8.GetBytes(lower))
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'_')
            {
                key.Append((char)b);
            }
            else
            {
                key.Append('~').Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return key.ToString();
    }

    /// <summary>Escaped components joined with <paramref name="separator"/>.</summary>
    public static string Join(char separator, params ReadOnlySpan<string> names)
    {
        var parts = new string[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            parts[i] = Escape(names[i]);
        }

        return string.Join(separator, parts);
    }
}
