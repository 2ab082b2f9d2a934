using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace DeployFunctions.GitHub;

/// <summary>
/// The JSON Web Token a GitHub App signs (RS256) to ask for installation tokens: <c>iat</c> 60 s in the past against
/// clock drift, <c>exp</c> 9 minutes ahead (GitHub allows at most 10), <c>iss</c> the App id.
/// </summary>
public static class GitHubAppJwt
{
    public static readonly TimeSpan IssuedAtSkew = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(9);

    public static string Create(long appId, RSA privateKey, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        var header = Base64Url.EncodeToString("""{"alg":"RS256","typ":"JWT"}"""u8);
        var claims = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, long>
        {
            ["iat"] = (now - IssuedAtSkew).ToUnixTimeSeconds(),
            ["exp"] = (now + Lifetime).ToUnixTimeSeconds(),
            ["iss"] = appId,
        });
        var signingInput = header + "." + Base64Url.EncodeToString(claims);
        var signature = privateKey.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>App settings often lose a PEM's line breaks (pasted as one line, or with literal <c>\n</c>).</summary>
    public static string NormalizePem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        return pem.Replace("\\n", "\n", StringComparison.Ordinal).Trim();
    }
}
