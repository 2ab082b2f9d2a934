namespace DeployFunctions;

/// <summary>
/// Recognises secret-bearing settings that cannot be the real secret, so the app refuses to start instead of running
/// on them. Messages name the setting, never its value.
/// </summary>
public static class SecretSetting
{
    /// <summary>What App Service leaves in a setting when it cannot resolve a Key Vault reference.</summary>
    public const string KeyVaultReferencePrefix = "@Microsoft.KeyVault(";

    /// <summary>The placeholders the sample settings ship with.</summary>
    public const string PlaceholderPrefix = "replace-with-";

    /// <summary>The shortest webhook secret accepted.</summary>
    public const int MinimumWebhookSecretLength = 16;

    /// <summary>Why <paramref name="value"/> cannot be the secret of setting <paramref name="setting"/>, or null.</summary>
    public static string? Problem(string setting, string? value, int minimumLength = 0)
    {
        ArgumentNullException.ThrowIfNull(setting);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var trimmed = value.Trim();
        if (trimmed.StartsWith(KeyVaultReferencePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return $"{setting} is an unresolved Key Vault reference: App Service could not read the secret (check that the app's " +
                   "identity has Key Vault Secrets User on the vault, that the secret exists and is enabled, and the vault's " +
                   "network rules), and left the reference text in its place. The app does not use that text as a secret.";
        }

        if (trimmed.StartsWith(PlaceholderPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return $"{setting} still holds the sample's placeholder: set it to your real value.";
        }

        return trimmed.Length < minimumLength
            ? $"{setting} is shorter than {minimumLength} characters: use a long random value (e.g. 32 random bytes as hex)."
            : null;
    }
}
